-- What a Bearer key may do, as the delivery vendor's scope names separated by spaces
-- (`audit:read settlement:write`). NULL on keys issued before scopes existed, which read as the
-- default scopes (reading and changing disputes), as they could; logins have none.
ALTER TABLE api_keys ADD COLUMN scopes TEXT;
