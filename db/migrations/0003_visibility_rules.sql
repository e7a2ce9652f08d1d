-- The one rule for who may see whom, used by every query that shows one user
-- to another (profiles, discover, likes, hosts, posts, messages, invitations,
-- shares): routes never re-implement it.

-- A pair where either blocked the other are strangers to each other.
CREATE FUNCTION blocked_between(a uuid, b uuid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN EXISTS (
        SELECT 1 FROM blocked_users
        WHERE (blocker_user_id = a AND blocked_user_id = b)
           OR (blocker_user_id = b AND blocked_user_id = a)
    );

-- The viewer may see the target: the target's account is active (suspended,
-- banned and unverified accounts are hidden from others) and no block stands
-- between them. Everyone sees themselves while active.
CREATE FUNCTION user_visible_to(viewer uuid, target uuid) RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN EXISTS (SELECT 1 FROM users WHERE id = target AND status = 'active')
        AND NOT blocked_between(viewer, target);
