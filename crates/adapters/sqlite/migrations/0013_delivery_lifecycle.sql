-- The delivery vendor's lifecycle (investigating, evidence gathered, escalated: new status names
-- only, kept as text like the others) and where each party stood when it answered. Responses
-- and replies stored before carry no stance; a reply's is then that of its decision.
ALTER TABLE disputes ADD COLUMN response_stance TEXT;
ALTER TABLE disputes ADD COLUMN reply_stance TEXT;
