# SPDX-License-Identifier: BSD-3-Clause
defmodule HeadCount.SipHash do
  @moduledoc """
  SipHash-2-4 with a 128-bit key and a 128-bit output (libsodium's
  `crypto_shorthash_siphashx24`), the MAC of headcount protocol v3
  (docs/protocol.md, "Authentication"), in pure Elixir.

  Why 32-bit halves: on the BEAM an integer above 59 bits is a bignum
  (heap allocated, slow).  Every 64-bit state word is kept as two 32-bit
  halves (`h`, `l`), each small; a rotation shifts at most 21 bits, so no
  intermediate value ever exceeds 2^53.  The rounds are expanded inline by
  a macro (no tuple per round), the state lives in function arguments
  (registers under the JIT).
  """
  import Bitwise

  @m 0xFFFFFFFF

  # one SipRound on the caller's eight halves v0h v0l .. v3h v3l
  defmacrop sipround do
    quote do
      # v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
      l = var!(v0l) + var!(v1l)
      var!(v0h) = var!(v0h) + var!(v1h) + (l >>> 32) &&& unquote(@m)
      var!(v0l) = l &&& unquote(@m)
      t = var!(v1h)
      var!(v1h) = (t <<< 13 &&& unquote(@m)) ||| var!(v1l) >>> 19
      var!(v1l) = (var!(v1l) <<< 13 &&& unquote(@m)) ||| t >>> 19
      var!(v1h) = bxor(var!(v1h), var!(v0h))
      var!(v1l) = bxor(var!(v1l), var!(v0l))
      t = var!(v0h)
      var!(v0h) = var!(v0l)
      var!(v0l) = t
      # v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
      l = var!(v2l) + var!(v3l)
      var!(v2h) = var!(v2h) + var!(v3h) + (l >>> 32) &&& unquote(@m)
      var!(v2l) = l &&& unquote(@m)
      t = var!(v3h)
      var!(v3h) = (t <<< 16 &&& unquote(@m)) ||| var!(v3l) >>> 16
      var!(v3l) = (var!(v3l) <<< 16 &&& unquote(@m)) ||| t >>> 16
      var!(v3h) = bxor(var!(v3h), var!(v2h))
      var!(v3l) = bxor(var!(v3l), var!(v2l))
      # v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
      l = var!(v0l) + var!(v3l)
      var!(v0h) = var!(v0h) + var!(v3h) + (l >>> 32) &&& unquote(@m)
      var!(v0l) = l &&& unquote(@m)
      t = var!(v3h)
      var!(v3h) = (t <<< 21 &&& unquote(@m)) ||| var!(v3l) >>> 11
      var!(v3l) = (var!(v3l) <<< 21 &&& unquote(@m)) ||| t >>> 11
      var!(v3h) = bxor(var!(v3h), var!(v0h))
      var!(v3l) = bxor(var!(v3l), var!(v0l))
      # v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
      l = var!(v2l) + var!(v1l)
      var!(v2h) = var!(v2h) + var!(v1h) + (l >>> 32) &&& unquote(@m)
      var!(v2l) = l &&& unquote(@m)
      t = var!(v1h)
      var!(v1h) = (t <<< 17 &&& unquote(@m)) ||| var!(v1l) >>> 15
      var!(v1l) = (var!(v1l) <<< 17 &&& unquote(@m)) ||| t >>> 15
      var!(v1h) = bxor(var!(v1h), var!(v2h))
      var!(v1l) = bxor(var!(v1l), var!(v2l))
      t = var!(v2h)
      var!(v2h) = var!(v2l)
      var!(v2l) = t
    end
  end

  @doc "The 16-byte tag of `data` (iodata) under the 16-byte `key`."
  @spec tag(binary, iodata) :: <<_::128>>
  def tag(<<k0l::little-32, k0h::little-32, k1l::little-32, k1h::little-32>>, data) do
    bin = IO.iodata_to_binary(data)
    # v0 = k0 ^ "somepseu", v1 = k1 ^ "dorandom" ^ 0xee (128-bit output),
    # v2 = k0 ^ "lygenera", v3 = k1 ^ "tedbytes"
    blocks(
      bin,
      bxor(k0h, 0x736F6D65),
      bxor(k0l, 0x70736575),
      bxor(k1h, 0x646F7261),
      bxor(k1l, 0x6E646F6D) |> bxor(0xEE),
      bxor(k0h, 0x6C796765),
      bxor(k0l, 0x6E657261),
      bxor(k1h, 0x74656462),
      bxor(k1l, 0x79746573),
      byte_size(bin)
    )
  end

  defp blocks(
         <<ml::little-32, mh::little-32, rest::binary>>,
         v0h,
         v0l,
         v1h,
         v1l,
         v2h,
         v2l,
         v3h,
         v3l,
         len
       ) do
    v3h = bxor(v3h, mh)
    v3l = bxor(v3l, ml)
    sipround()
    sipround()
    blocks(rest, bxor(v0h, mh), bxor(v0l, ml), v1h, v1l, v2h, v2l, v3h, v3l, len)
  end

  defp blocks(tail, v0h, v0l, v1h, v1l, v2h, v2l, v3h, v3l, len) do
    # the last block: the remaining bytes, zero padded, the length's low
    # byte on top
    pad = 7 - byte_size(tail)
    <<ml::little-32, mh::little-32>> = <<tail::binary, 0::size(pad)-unit(8), len &&& 0xFF>>
    v3h = bxor(v3h, mh)
    v3l = bxor(v3l, ml)
    sipround()
    sipround()
    v0h = bxor(v0h, mh)
    v0l = bxor(v0l, ml)
    v2l = bxor(v2l, 0xEE)
    sipround()
    sipround()
    sipround()
    sipround()
    o1h = v0h |> bxor(v1h) |> bxor(v2h) |> bxor(v3h)
    o1l = v0l |> bxor(v1l) |> bxor(v2l) |> bxor(v3l)
    v1l = bxor(v1l, 0xDD)
    sipround()
    sipround()
    sipround()
    sipround()
    o2h = v0h |> bxor(v1h) |> bxor(v2h) |> bxor(v3h)
    o2l = v0l |> bxor(v1l) |> bxor(v2l) |> bxor(v3l)
    <<o1l::little-32, o1h::little-32, o2l::little-32, o2h::little-32>>
  end
end
