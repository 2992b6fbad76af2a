/**
 * Preloaded into a service process (`node --import`) by the lifecycle
 * test: on SIGUSR2 the process gets a promise rejection nobody handles, as a
 * bug in a fire-and-forget path would cause.
 */
process.on("SIGUSR2", () => {
  void Promise.reject(new Error("injected: a rejection nobody handles"));
});
