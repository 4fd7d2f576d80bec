// Linear algebra in float64: dense factorisations (Cholesky, triangular solves,
// symmetric eigendecomposition, QR, SVD), sparse CSR matrices, sparse Cholesky
// (native or CHOLMOD) and LOBPCG.
export { Matrix, type MatrixInput } from "./matrix.js";
export {
  cholesky,
  choleskySolve,
  eigh,
  qr,
  solveTriangular,
  svd,
  NotPositiveDefiniteError,
  type EighResult,
  type QrResult,
  type SolveTriangularOptions,
  type SvdResult,
} from "./dense.js";
export { SparseMatrix, type SparseOptions, type Triplet, type TripletArrays } from "./sparse.js";
export {
  sparseCholesky,
  analyzeSparseCholesky,
  cholmodVersion,
  schurComplementSolver,
  type SparseCholeskyFactor,
  type SparseCholeskyOptions,
  type SparseCholeskyBackend,
} from "./sparse-cholesky.js";
export { lobpcgMin, type LinearOperator, type LobpcgOptions, type LobpcgResult } from "./lobpcg.js";
