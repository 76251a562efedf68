/**
 * The shared state of the example machine, as word indexes: one place for the window, the main loop and
 * the vCPU threads to agree on. Per vCPU i, 4 words at i * CPU_WORDS; the machine's words after them.
 */

/** Per-vCPU words. */
export const CREATED = 0;
export const INIT_ORDER = 1;
export const ROWS = 2;
export const FRAMES = 3;
export const CPU_WORDS = 4;

/** Machine words, at smp * CPU_WORDS + ... */
export const ORDER = 0; // next creation ticket
export const NEXT_ROW = 1; // next framebuffer row to draw in this frame
export const DONE = 2; // vCPUs done with this frame
export const FRAME = 3; // the frame being drawn (0: none yet)
export const QUIT = 4;
export const MACHINE_WORDS = 5;

/** Where the machine's words start. */
export const machineBase = (smp) => smp * CPU_WORDS;
