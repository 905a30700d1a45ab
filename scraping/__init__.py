"""The web side of discovery (plain asyncio, no Ray, no database). Not built yet: see the
README's status section."""
