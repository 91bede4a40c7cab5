"""Track feeds: Cursor on Target, ADS-B (readsb aircraft.json, OpenSky), AIS, CSV."""
