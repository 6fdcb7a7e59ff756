--[[ Reserve one login attempt, atomically: refuse when either counter has reached its max, else
count the attempt against both (a failure stays counted; a success gives it back, see
login-release-2.lua). Checking and counting in one script closes the race in which N attempts
sent at the same instant all pass a check before any of them is counted.
KEYS[1] the ip's counter               KEYS[2] the username+ip counter (same hash tag)
ARGV[1] now ms ('' = Redis TIME)       ARGV[2] deadline ms ('' = none)
ARGV[3] ip max                         ARGV[4] username+ip max
ARGV[5] ip window ms                   ARGV[6] username+ip window ms
Reply: 'late' (nothing counted) after the deadline; else 0 when reserved, or the longest
remaining PTTL (ms, at least 1) among the counters that have reached their max (nothing counted)
The first attempt starts the window: INCR and PEXPIRE in one script, so no counter ever lives
without a TTL. A counter found without one (PERSIST by hand) gets its window back.
]]
if isLate(nowMs(ARGV[1]), ARGV[2]) then return 'late' end
local wait = 0
for i = 1, 2 do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count >= tonumber(ARGV[i + 2]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then
      redis.call('PEXPIRE', KEYS[i], ARGV[i + 4])
      ttl = tonumber(ARGV[i + 4])
    end
    if ttl > wait then wait = ttl end
    if wait < 1 then wait = 1 end
  end
end
if wait > 0 then return wait end
for i = 1, 2 do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 or redis.call('PTTL', KEYS[i]) < 0 then
    redis.call('PEXPIRE', KEYS[i], ARGV[i + 4])
  end
end
return 0
