"""Joint positions as BVH text (see ``mocap.write_bvh``): a rigid hierarchy whose rotations
reproduce the positions exactly."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import SynthError

__all__ = ["bvh_text", "align", "euler_zxy"]


def align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rotation matrices ``[T, 3, 3]`` turning unit vectors ``a [3]`` onto unit vectors ``b [T, 3]``
    (the smallest rotation; a half turn about a perpendicular axis when they are opposite)."""
    v = np.cross(a, b)  # [T, 3]
    c = b @ a  # [T]
    out = np.empty((len(b), 3, 3))
    for t in range(len(b)):
        if c[t] < -1 + 1e-9:
            axis = np.cross(a, [1.0, 0, 0] if abs(a[0]) < 0.9 else [0, 1.0, 0])
            axis /= np.linalg.norm(axis)
            out[t] = 2 * np.outer(axis, axis) - np.eye(3)
            continue
        k = np.array([[0, -v[t, 2], v[t, 1]], [v[t, 2], 0, -v[t, 0]], [-v[t, 1], v[t, 0], 0]])
        out[t] = np.eye(3) + k + k @ k / (1 + c[t])
    return out


def euler_zxy(r: np.ndarray) -> np.ndarray:
    """Degrees ``[T, 3]`` (z, x, y) with ``r = Rz @ Rx @ Ry`` for rotation matrices ``r [T, 3, 3]``."""
    x = np.arcsin(np.clip(r[:, 2, 1], -1, 1))
    y = np.arctan2(-r[:, 2, 0], r[:, 2, 2])
    z = np.arctan2(-r[:, 0, 1], r[:, 1, 1])
    return np.degrees(np.stack([z, x, y], axis=-1))


@dataclass
class _Node:
    name: str
    joint: int  # the source joint at this node's position
    aim: int | None  # the single child joint whose bone this node's rotation follows
    children: list = field(default_factory=list)


def _tree(names: list[str], parents: list[int]) -> _Node:
    kids: dict[int, list[int]] = {j: [] for j in range(len(names))}
    for j, p in enumerate(parents):
        if p >= 0:
            kids[p].append(j)

    def build(j: int) -> _Node:
        if len(kids[j]) == 1:
            return _Node(names[j], j, kids[j][0], [build(kids[j][0])])
        node = _Node(names[j], j, None)
        for c in kids[j]:  # one zero-offset branch joint per child
            node.children.append(_Node(f"{names[j]}_to_{names[c]}", j, c, [build(c)]))
        return node

    roots = [j for j, p in enumerate(parents) if p < 0]
    if len(roots) != 1:
        raise SynthError(f"a BVH hierarchy needs exactly one root, got {len(roots)}")
    return build(roots[0])


def bvh_text(joints: np.ndarray, names: list[str], parents: list[int], fps: float) -> str:
    """The BVH file of joint positions ``[T, J, 3]``; rest offsets are the first frame's bones."""
    root = _tree(names, parents)
    lines, columns = ["HIERARCHY"], []
    frames = len(joints)

    def world(node: _Node) -> np.ndarray:  # [T, 3, 3] the node's world rotation
        if node.aim is None:
            return np.broadcast_to(np.eye(3), (frames, 3, 3))
        rest = joints[0, node.aim] - joints[0, node.joint]
        now = joints[:, node.aim] - joints[:, node.joint]
        return align(rest / np.linalg.norm(rest), now / np.linalg.norm(now, axis=-1, keepdims=True))

    def emit(node: _Node, parent: _Node | None, parent_world: np.ndarray, depth: int) -> None:
        pad = "  " * depth
        offset = np.zeros(3) if parent is None else joints[0, node.joint] - joints[0, parent.joint]
        lines.append(f"{pad}{'ROOT' if parent is None else 'JOINT'} {node.name}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {offset[0]:.6f} {offset[1]:.6f} {offset[2]:.6f}")
        mine = world(node)
        local = np.einsum("tji,tjk->tik", parent_world, mine)  # parent^T @ mine
        if parent is None:
            lines.append(f"{pad}  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation")
            columns.append(joints[:, node.joint])
        else:
            lines.append(f"{pad}  CHANNELS 3 Zrotation Xrotation Yrotation")
        columns.append(euler_zxy(local))
        for child in node.children:
            emit(child, node, mine, depth + 1)
        if not node.children:
            lines.append(f"{pad}  End Site")
            lines.append(f"{pad}  {{")
            lines.append(f"{pad}    OFFSET 0.000000 0.050000 0.000000")
            lines.append(f"{pad}  }}")
        lines.append(f"{pad}}}")

    emit(root, None, np.broadcast_to(np.eye(3), (frames, 3, 3)), 0)
    motion = np.concatenate(columns, axis=1)  # [T, channels]
    lines += ["MOTION", f"Frames: {frames}", f"Frame Time: {1.0 / fps:.6f}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in motion]
    return "\n".join(lines) + "\n"
