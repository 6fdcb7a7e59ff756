--[[ May a login be attempted? Read-only.
KEYS[1] the ip's counter               KEYS[2] the username+ip counter (same hash tag)
ARGV[1] ip max failures                ARGV[2] username+ip max failures
Reply: 0 when neither counter has reached its max, else the longest remaining PTTL (ms) among
those that have
]]
local wait = 0
for i = 1, 2 do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count >= tonumber(ARGV[i]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl > wait then wait = ttl end
  end
end
return wait
