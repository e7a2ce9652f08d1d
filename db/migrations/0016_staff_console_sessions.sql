-- 0016_staff_console_sessions: the staff console's server-side sessions.
--
-- A console sign-in is an ordinary auth_sessions row (so suspension,
-- deletion and every other revocation end it, through the same check as the
-- API's), plus this row: the SHA-256 of the random token in the browser's
-- cookie, and when the browser was last seen, for the idle timeout.
CREATE TABLE staff_console_sessions (
    token_hash   text PRIMARY KEY,
    session_id   uuid NOT NULL UNIQUE REFERENCES auth_sessions (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_console_sessions_user_id_idx ON staff_console_sessions (user_id);
