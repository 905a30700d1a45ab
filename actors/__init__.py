"""Ray actors and jobs (campaign state, senders, scraper pools). Not built yet: see the README's
status section."""
