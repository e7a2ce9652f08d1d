-- 0005_admin_actions: the audit trail of what staff do (who, what, when).
--
-- One row per admin action (report/ticket/user changes through /v1/admin, and
-- staff grants/revocations from the CLI), written in the same transaction as
-- the change it records. Rows are never updated or deleted by the app.

CREATE TABLE admin_actions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- NULL for actions taken from the command line, or once the staff
    -- member's account is deleted (the trail outlives the account).
    staff_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    -- e.g. 'report.update', 'ticket.update', 'user.update', 'staff.grant'
    action        text NOT NULL,
    -- e.g. 'report', 'support_ticket', 'user', 'staff'
    target_type   text NOT NULL,
    target_id     text NOT NULL,
    details       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- The whole trail, newest first (cursor on created_at, id).
CREATE INDEX admin_actions_created_at_idx ON admin_actions (created_at DESC, id DESC);
-- The history of one thing (a report, a ticket, a user).
CREATE INDEX admin_actions_target_idx
    ON admin_actions (target_type, target_id, created_at DESC, id DESC);
-- For the ON DELETE SET NULL from users, and "what did this staff member do".
CREATE INDEX admin_actions_staff_user_id_idx
    ON admin_actions (staff_user_id, created_at DESC) WHERE staff_user_id IS NOT NULL;
