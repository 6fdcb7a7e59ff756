--[[ Is the session live? (authenticateSession's fallback when the revocation feed cannot vouch)
KEYS[1] the session record
ARGV[1] now ms ('' = Redis TIME)
Reply: 1 live, 0 not
]]
if isLiveKey(KEYS[1], nowMs(ARGV[1])) then return 1 end
return 0
