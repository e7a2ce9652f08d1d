"""Invitations from the invitee's side: accepting (seats and payment), declining,
cancelling, and the invitee's lists of invitations, events and payments."""
