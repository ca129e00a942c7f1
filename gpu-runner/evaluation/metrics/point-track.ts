// Its own module because both producers of tracks need it, the tracker (objects) and camera.ts
// (camera grids), and the tracker dispatches to camera.ts.

/** A point track: the point's (x, y) per frame in pixels, pixel centres at +0.5. */
export type Track = [number, number][];
