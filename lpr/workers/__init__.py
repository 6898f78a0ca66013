"""Camera workers: feed readers, motion gating, tracking, voting, durable read hand-off, health."""
