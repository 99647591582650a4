"""The events screens: the public pages (`public`) and the organiser's (`manage`)."""
