--[[ Is the session live? (authenticateSession's fallback when the revocation feed cannot vouch)
KEYS[1] the user's session index (or their only session: see record.lua)      KEYS[2] the session record
ARGV[1] now ms ('' = Redis TIME)      ARGV[2] session id
Reply: 1 live, 0 not
]]
local now = nowMs(ARGV[1])
if isLiveKey(KEYS[2], now) then return 1 end
local solo = soloValue(KEYS[1])
if not solo then return 0 end
local sid, expiresAt = soloEntry(solo)
if sid == ARGV[2] and expiresAt > now then return 1 end
return 0
