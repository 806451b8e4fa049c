"""This chair's exchange with the clinic hub (issue 18): in the background, and once on demand."""
