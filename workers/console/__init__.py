"""The moderator console: the review queue, the case, the evidence and one click to decide.

``projection`` folds the topics into cases (pure); ``auth`` holds users, roles, sessions and
CSRF; ``app`` serves the pages; ``kafka_io`` feeds the projection and writes ``reviews``;
``__main__`` runs the process (``modstream console``). See docs/console.md.
"""
