"""Jobs outside any kernel: the handle, the service, the ledger, the poller and downloads."""
