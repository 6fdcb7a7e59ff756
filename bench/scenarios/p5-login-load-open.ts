/** P5-open: P5 with `argon2Queue: false`, every verify straight to libuv's pool as before the queue: P5's baseline. */
process.env.BENCH_ARGON2_QUEUE = 'off'
await import('./p5-login-load.js')
