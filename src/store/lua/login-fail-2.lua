--[[ Count one failed login against the ip and the username+ip counters (fixed windows).
KEYS[1] the ip's counter               KEYS[2] the username+ip counter (same hash tag)
ARGV[1] ip window ms                   ARGV[2] username+ip window ms
Reply: { ip count, username+ip count }
The first failure starts the window: INCR and PEXPIRE in one script, so no counter ever lives
without a TTL. A counter found without one (PERSIST by hand) gets its window back.
]]
local counts = {}
for i = 1, 2 do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 or redis.call('PTTL', KEYS[i]) < 0 then
    redis.call('PEXPIRE', KEYS[i], ARGV[i])
  end
  counts[i] = count
end
return counts
