"""The Microsoft Teams front door: Bot Framework activities in, Adaptive Cards out."""
