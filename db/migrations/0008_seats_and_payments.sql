-- Seat holds and Stripe payments.

ALTER TABLE invitations
    -- While `pending_payment`: the seat is held until then; after it the
    -- reconciliation job asks Stripe and releases the seat if nothing was paid.
    ADD COLUMN hold_expires_at timestamptz,
    ADD CONSTRAINT invitations_hold_only_while_pending
        CHECK (status = 'pending_payment' OR hold_expires_at IS NULL);

-- The reconciliation job's working set.
CREATE INDEX invitations_pending_hold_idx
    ON invitations (hold_expires_at) WHERE status = 'pending_payment';
-- "My events" and "my invitations" lists.
CREATE INDEX invitations_profile_id_created_at_id_idx
    ON invitations (profile_id, created_at DESC, id DESC);

ALTER TABLE payments
    -- Each attempt at paying for an invitation is its own PaymentIntent; the
    -- attempt number is part of the idempotency key sent to Stripe, so a
    -- retried request never creates a second PaymentIntent for one attempt.
    ADD COLUMN attempt           integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    ADD COLUMN stripe_refund_id  text UNIQUE,
    -- Why the last attempt failed (Stripe's decline code), for the app's copy.
    ADD COLUMN failure_code      text,
    -- Set when a succeeded payment must be refunded (event cancelled, or a
    -- payment that arrived after its seat was gone); cleared by the refund.
    ADD COLUMN refund_reason     text
        CHECK (refund_reason IN ('event_cancelled', 'no_seat', 'invitation_closed')),
    ADD CONSTRAINT payments_invitation_attempt_key UNIQUE (invitation_id, attempt);

-- Payments waiting for a refund (the refund job's working set).
CREATE INDEX payments_refund_due_idx
    ON payments (updated_at) WHERE refund_reason IS NOT NULL AND status = 'succeeded';
