/** The job lost its lease (another worker owns it now): stop, write nothing more. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
}
