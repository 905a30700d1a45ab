"""Pure domain: settings, errors, enums and rules. Imports nothing of ours and does no I/O, with
one exception: ``template_runner`` renders user-written templates in child processes, so that
every layer above that renders (serve's previews, the actors' sending) shares one bounded
renderer."""
