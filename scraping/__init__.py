"""The web side of discovery: the SoundCloud client, page and object parsers, contact
extraction, the fetcher with retries and pacing, and the SoundCloud-shaped fixture site.

Plain asyncio and aiohttp: nothing here knows Ray or the database, so it can be used and tested
alone. Pacing that must hold across processes is plugged in through ``scraping.fetcher.Pacer``.
"""
