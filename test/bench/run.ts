/**
 * `npm run bench`: each benchmark runs its subject and a baseline in the same process and prints the
 * ratio. The sync, rate-ledger and webhook benchmarks land with those features.
 */
console.log('no benchmarks yet: the sync, rate-ledger and webhook benchmarks come with those features');
