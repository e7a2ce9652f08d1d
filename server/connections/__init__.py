"""The Memory Book: the people I met, and what only I note about them."""
