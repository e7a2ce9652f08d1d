-- Direct conversations: one per pair of people, and the inbox's order.

ALTER TABLE conversations
    -- The pair, smaller profile id first: the unique key makes two concurrent
    -- "start a conversation" requests end with one conversation. SET NULL: a
    -- deleted profile leaves the other person's messages with them.
    ADD COLUMN profile_low      uuid REFERENCES social_profiles (id) ON DELETE SET NULL,
    ADD COLUMN profile_high     uuid REFERENCES social_profiles (id) ON DELETE SET NULL,
    -- Creation, then each new message: the inbox lists most recent activity first.
    ADD COLUMN last_activity_at timestamptz NOT NULL DEFAULT now();

UPDATE conversations c
SET profile_low = pair.ids[1], profile_high = pair.ids[2],
    last_activity_at = coalesce(
        (SELECT max(m.created_at) FROM messages m WHERE m.conversation_id = c.id), c.created_at)
FROM (
    SELECT conversation_id, array_agg(profile_id ORDER BY profile_id) AS ids
    FROM conversation_participants GROUP BY conversation_id
) pair
WHERE pair.conversation_id = c.id;

ALTER TABLE conversations
    ADD CONSTRAINT conversations_pair_ordered CHECK (profile_low < profile_high),
    ADD CONSTRAINT conversations_pair_key UNIQUE (profile_low, profile_high);
-- profile_low is covered by the unique key; this one serves profile deletion.
CREATE INDEX conversations_profile_high_idx ON conversations (profile_high);
