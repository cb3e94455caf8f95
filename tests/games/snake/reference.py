"""A slow, obviously correct pure-Python Snake: one game, lists and loops, no numpy.

It follows the rule book, the docstring of ``evonet.games.snake.rules``, and is the
reference the vectorized engine is checked against move for move.
"""

import math

M64 = (1 << 64) - 1
DIRS4 = [(0, -1), (1, 0), (0, 1), (-1, 0)]  # up, right, down, left
DIRS8 = [(0, -1), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1)]


def mix64(z):
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


class ReferenceSnake:
    def __init__(self, seed, width=10, height=10, hunger=None, observation=2):
        self.w, self.h = width, height
        self.layout = observation
        self.hunger = width * height if hunger is None else hunger
        self.key = mix64(seed)
        self.draws = 0
        self.heading = self.draw(0) % 4
        cx, cy = width // 2, height // 2
        dx, dy = DIRS4[self.heading]
        self.snake = [(cx + dx, cy + dy), (cx, cy), (cx - dx, cy - dy)]  # head first
        self.apples = self.steps = self.since_apple = 0
        self.terminated = self.truncated = self.won = False
        self.apple = None
        self.place_apple()

    def draw(self, counter):
        return mix64(self.key ^ ((counter * 0xD1B54A32D192ED03) & M64))

    def place_apple(self):
        self.draws += 1
        free = [(x, y) for y in range(self.h) for x in range(self.w) if (x, y) not in self.snake]
        self.apple = free[self.draw(self.draws) % len(free)]

    @property
    def done(self):
        return self.terminated or self.truncated

    def step(self, action):
        if self.done:
            return 0.0
        self.heading = (self.heading + action - 1) % 4
        dx, dy = DIRS4[self.heading]
        hx, hy = self.snake[0]
        new = (hx + dx, hy + dy)
        self.steps += 1
        eats = new == self.apple
        body_after_move = self.snake if eats else self.snake[:-1]
        off_board = not (0 <= new[0] < self.w and 0 <= new[1] < self.h)
        if off_board or new in body_after_move:
            self.terminated = True
            self.since_apple += 1
            return -1.0
        self.snake = [new] + body_after_move
        if eats:
            self.apples += 1
            self.since_apple = 0
            if len(self.snake) == self.w * self.h:
                self.won = self.terminated = True
                self.apple = None
            else:
                self.place_apple()
            return 1.0
        self.since_apple += 1
        if self.since_apple >= self.hunger:
            self.truncated = True
        return 0.0

    def observation(self):
        hx, hy = self.snake[0]
        obs = []
        rays = [DIRS8[(2 * self.heading + i) % 8] for i in range(8)]
        walls, apples, bodies = [], [], []
        for dx, dy in rays:
            k, body, apple = 0, 0.0, 0.0
            x, y = hx, hy
            while True:
                x, y, k = x + dx, y + dy, k + 1
                if not (0 <= x < self.w and 0 <= y < self.h):
                    break
                if (x, y) == self.apple:
                    apple = 1.0
                if body == 0.0 and (x, y) in self.snake[1:]:
                    body = 1.0 / k
            walls.append(1.0 / k)
            apples.append(apple)
            bodies.append(body)
        obs = walls + apples + bodies + [1.0 if self.heading == i else 0.0 for i in range(4)]
        if self.apple is None:
            obs += [0.0, 0.0]
        else:
            ax, ay = self.apple[0] - hx, self.apple[1] - hy
            fx, fy = DIRS4[self.heading]
            rx, ry = DIRS4[(self.heading + 1) % 4]
            side = max(self.w, self.h)
            obs += [(ax * fx + ay * fy) / side, (ax * rx + ay * ry) / side]
        obs += [len(self.snake) / (self.w * self.h), self.since_apple / self.hunger]
        if self.layout >= 2:
            obs += [self.room(action) for action in range(3)]
        return obs

    def room(self, action):
        """min(R, length) / length (layout 2), or log(1 + min(R, length)) / log(1 + length)
        (layout 3): R the cells reachable from the cell the move enters."""
        dx, dy = DIRS4[(self.heading + action - 1) % 4]
        hx, hy = self.snake[0]
        start = (hx + dx, hy + dy)
        blocked = set(self.snake[:-1])  # the tail's cell is free: the tail moves on

        def open_cell(c):
            return 0 <= c[0] < self.w and 0 <= c[1] < self.h and c not in blocked

        if not open_cell(start):
            return 0.0
        length = len(self.snake)
        reached, todo = {start}, [start]
        while todo and len(reached) < length:  # past length cells, min(R, length) is length
            x, y = todo.pop()
            for dx, dy in DIRS4:
                c = (x + dx, y + dy)
                if open_cell(c) and c not in reached:
                    reached.add(c)
                    todo.append(c)
        if self.layout == 2:
            return min(len(reached), length) / length
        return math.log1p(min(len(reached), length)) / math.log1p(length)
