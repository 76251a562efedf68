// Re-exports lifecycle.ts: which names this module exports cannot be told from its own text, so a missing
// one is reported by the join, not by the create (thread-create.test.ts).
export * from './lifecycle.js';
