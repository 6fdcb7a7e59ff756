--[[ A reserved login attempt succeeded: forget the username+ip count, and give the attempt back
to the ip's count (never below 0; a counter that reaches 0 is deleted, as it would be had it
never been counted). The ip's other failures stay counted: a success does not reset them.
KEYS[1] the ip's counter               KEYS[2] the username+ip counter (same hash tag)
Reply: the ip's count after the release
]]
redis.call('DEL', KEYS[2])
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count <= 1 then
  redis.call('DEL', KEYS[1])
  return 0
end
-- DECR keeps the key's TTL: the window does not move.
return redis.call('DECR', KEYS[1])
