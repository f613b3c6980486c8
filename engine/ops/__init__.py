"""What an operator does to a running Rapport: look at its health (status, metrics), stop
sending (pause), settle uncertain sends (resolve), retire cadences (removal) and honour a
customer's request to be forgotten (forget). Library functions the CLI and the daemon
both call; each module says which of its functions the daemon calls and when."""
