-- Web processes cache "this sign-in session is valid" for a few seconds to
-- spare a query per request (server/auth/session_cache.py). Whatever ends a
-- sign-in, from any process or by hand in psql, notifies them here on commit,
-- so the cache forgets that user at once.

CREATE FUNCTION notify_sign_in_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    -- Separate statements: each names a column only its own table has.
    IF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('momento_sign_in_changed', OLD.id::text);
    ELSE
        PERFORM pg_notify('momento_sign_in_changed', OLD.user_id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_sign_in_changed
    AFTER UPDATE OF status ON users
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION notify_sign_in_change();

CREATE TRIGGER users_deleted_sign_in_changed
    AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_sign_in_change();

CREATE TRIGGER auth_sessions_sign_in_changed
    AFTER UPDATE OF revoked_at ON auth_sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
    EXECUTE FUNCTION notify_sign_in_change();

CREATE TRIGGER auth_sessions_deleted_sign_in_changed
    AFTER DELETE ON auth_sessions
    FOR EACH ROW EXECUTE FUNCTION notify_sign_in_change();
