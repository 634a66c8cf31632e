// The configuration: env.ts parses the environment into one flat Config; sections.ts says which part of
// the system each setting belongs to, so a module can declare the one section it reads.
export * from './env';
export * from './sections';
