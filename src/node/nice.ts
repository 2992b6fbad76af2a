/**
 * The niceness of this process's background threads — the write thread,
 * `npm start`'s worker thread and the WAL checkpointer (Linux: per thread).
 * At 10 such a thread gets ~10 % of a core the thread answering reads also
 * wants, and all of an idle one.
 */
export const BACKGROUND_THREAD_NICE = 10;
