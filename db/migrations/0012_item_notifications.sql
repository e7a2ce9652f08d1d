-- New board posts and direct messages are notified without a round trip on
-- the send path: a trigger in the storing transaction queues the item here,
-- and the push worker turns each row into notifications (with `notify_many`,
-- deleting the row in the same transaction). A stored item is therefore
-- always notified, and a rolled-back one never.

CREATE TABLE notification_sources (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('event_post', 'direct_message')),
    item_id    uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION queue_item_notification() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notification_sources (kind, item_id) VALUES (TG_ARGV[0], NEW.id);
    PERFORM pg_notify('momento_notifications', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER event_posts_queue_notification
    AFTER INSERT ON event_posts
    FOR EACH ROW EXECUTE FUNCTION queue_item_notification('event_post');

CREATE TRIGGER messages_queue_notification
    AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION queue_item_notification('direct_message');
