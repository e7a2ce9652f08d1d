"""What event boards and conversations share: content checks, the sequenced append,
and the one store-then-publish path of posts and messages."""
