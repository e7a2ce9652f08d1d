-- Web processes remember, for their WebSocket connections, whether one person
-- may see another's live posts and messages (realtime/visibility.py). A block
-- made or lifted, from any process or by hand in psql, notifies them here on
-- commit ("<blocker> <blocked>"), so they forget that pair at once.

CREATE FUNCTION notify_block_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('momento_blocks_changed',
                          OLD.blocker_user_id::text || ' ' || OLD.blocked_user_id::text);
    ELSE
        PERFORM pg_notify('momento_blocks_changed',
                          NEW.blocker_user_id::text || ' ' || NEW.blocked_user_id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER blocked_users_changed
    AFTER INSERT OR DELETE ON blocked_users
    FOR EACH ROW EXECUTE FUNCTION notify_block_change();
