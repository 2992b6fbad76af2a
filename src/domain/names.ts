/** Shapes of names the service accepts from clients and configuration. */

/** An RPM arch: x86_64, i686, aarch64, ppc64le, s390x, noarch, src … */
export const ARCH_RE = /^[A-Za-z0-9_]{1,32}$/;
