"""Pure domain: settings, errors, enums and rules. Imports nothing of ours and does no I/O."""
