/** `npm run soak`: the file log's SIGKILL crash test with 100 kills instead of the 8 of `npm test`. */
process.env.TIDELOG_CRASH_KILLS ??= '100';
await import('../test/storage/file-crash.test.js');
