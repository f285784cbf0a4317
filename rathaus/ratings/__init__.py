"""What citizens say after a visit: one rating link per visit, stars and a comment, the office's figures."""
