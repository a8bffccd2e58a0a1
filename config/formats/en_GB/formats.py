# British English dates in full, as the site has always written them ("3 December 2026");
# every other format is Django's own en_GB.
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
