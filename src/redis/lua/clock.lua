--[[ Time for every script (scripts.ts puts this file in front of each of them).
ARGV[1] is the time in epoch ms ('' = Redis TIME, so that every app instance agrees on it; a test
passes its controlled clock). A script that writes also takes ARGV[2], its deadline in epoch ms
on the same clock ('' = none): the time after which its caller has given up and answered 503, so
that a command delivered late (Redis frozen, a retry queue replaying it) changes nothing.
]]
local function nowMs (override)
  if override ~= '' then return tonumber(override) end
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end

local function isLate (now, deadline)
  return deadline ~= '' and now > tonumber(deadline)
end
