"""The review queue: every proactive @mention waits here for a person (docs/review.md).

- `items`: what a reviewer sees of a message (customer, why, recent history, Web Intent).
- `checks`: what must hold for an edit or an approval (text, recipient, caps, expiry).
- `queue`: the transitions — approve, edit, reject, mark-sent, expire — each one
  conditional UPDATE, so two reviewers never both win.
- `intent`: X Web Intent links and post URLs.
- `page`: the local review page (`rapport review --serve`).
"""
