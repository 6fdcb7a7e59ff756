/** P4-open: P4 with `argon2Queue: false`, every verify straight to libuv's pool as before the queue: P4's baseline. */
process.env.BENCH_ARGON2_QUEUE = 'off'
await import('./p4-login.js')
