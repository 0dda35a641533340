"""What the book reproduced of the paper: rows (:mod:`.rows`), the chapters' records (:mod:`.records`), the
verdict of each row (:mod:`.verdicts`) and the ledger that runs what is missing (:mod:`.run`)."""
