"""Command-line interface (`headwater ...`)."""
