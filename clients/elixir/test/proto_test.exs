# SPDX-License-Identifier: BSD-3-Clause
# proto_test.exs - the codec and the MAC against the vectors docs/protocol.md
# prints (read from the document itself, so they cannot drift), the
# SipHash reference implementation's 128-bit vectors, the digest, serial
# order, and the checks of A->G datagrams (malformed and forged input).
defmodule HeadCount.ProtoTest do
  use ExUnit.Case, async: true
  alias HeadCount.{Proto, SipHash}

  @doc_path Path.expand("../../../docs/protocol.md", __DIR__)
  @key Base.decode16!("000102030405060708090a0b0c0d0e0f", case: :lower)
  @user 0x1122334455667788
  @session 0x0006123456789ABC

  defp doc, do: File.read!(@doc_path)

  defp vectors do
    for [_, name, hex] <- Regex.scan(~r/^\s+vector (\w+) ([0-9a-f]+)$/m, doc()),
        into: %{},
        do: {name, Base.decode16!(hex, case: :lower)}
  end

  # each vector as the encoder writes it (docs/protocol.md, "Vectors for
  # every message type"): gateway 3, incarnations 01020304 / 0a0b0c0d
  defp build("EVENTS") do
    body = [Proto.event(@user, 42, 1, 0, @session), Proto.event(99, 7, 2, 1, 0x0006123400000001)]
    Proto.datagram_bin(1, 0, 3, 2, 0x01020304, 0x0A0B0C0D, 7, body, @key, 0)
  end

  defp build("PLACE"),
    do:
      Proto.datagram_bin(
        2,
        0,
        3,
        1,
        0x01020304,
        0x0A0B0C0D,
        2,
        [Proto.place_rec(@user, 5, 0)],
        @key,
        0
      )

  defp build("ASSIGN"),
    do: a2g(3, 1, Proto.assign_rec(@user, 5, 42, 0, 0, 1))

  defp build("MOVE"), do: a2g(4, 2, Proto.move_rec(@user, 42, 43, 9, 0, 0))

  defp build("HEARTBEAT"),
    do: a2g(5, 3, Proto.heartbeat_rec(7, 1, 100, 0, Proto.member_digest(@user, 42)))

  defp build("SNAPSHOT") do
    body = [Proto.snapshot_prefix(1, 0, 1, 1), Proto.member(@user, 42, 0, @session)]
    Proto.datagram_bin(6, 0, 3, 1, 0x01020304, 0x0A0B0C0D, 8, body, @key, 0)
  end

  defp build("RESYNC"), do: a2g(7, 4, Proto.resync_rec(1, 5, 6))

  defp a2g(type, ctr, rec),
    do: Proto.datagram_bin(type, Proto.f_a2g(), 3, 1, 0x01020304, 0x0A0B0C0D, ctr, [rec], @key, 0)

  test "a vector for every message type, from the encoder" do
    v = vectors()

    assert Map.keys(v) |> Enum.sort() ==
             ~w(ASSIGN EVENTS HEARTBEAT MOVE PLACE RESYNC SNAPSHOT)

    for {name, want} <- v do
      assert Base.encode16(build(name), case: :lower) == Base.encode16(want, case: :lower),
             "protocol.md vector #{name} differs from the encoder"

      assert Proto.verify(want, %{0 => @key}) == {:ok, 0}
    end
  end

  test "the A->G vectors parse as datagrams for gateway 3, incarnation 01020304" do
    v = vectors()
    {:ok, h} = Proto.parse_a2g(v["ASSIGN"], 3, 0x01020304)
    assert {h.type, h.count, h.ainc, h.ctr} == {3, 1, 0x0A0B0C0D, 1}

    assert Proto.records(h) == [
             %{user: @user, request: 5, room: 42, refused: 0, pool: 0, status: 1}
           ]

    {:ok, h} = Proto.parse_a2g(v["MOVE"], 3, 0x01020304)
    assert Proto.records(h) == [%{user: @user, from: 42, to: 43, directive: 9, pool: 0, attempt: 0}]
    {:ok, h} = Proto.parse_a2g(v["HEARTBEAT"], 3, 0x01020304)

    assert [%{last_sequence: 7, users: 1, interval_ms: 100, flags: 0, digest: 0xC323525D4118D702}] =
             Proto.records(h)

    {:ok, h} = Proto.parse_a2g(v["RESYNC"], 3, 0x01020304)
    assert Proto.records(h) == [%{reason: 1, first: 5, last: 6, snapshot_id: 0}]
    # G->A types are not for a gateway; another gateway's are not ours
    assert Proto.parse_a2g(v["EVENTS"], 3, 0x01020304) == {:error, :rx_bad}
    assert Proto.parse_a2g(v["SNAPSHOT"], 3, 0x01020304) == {:error, :rx_bad}
    assert Proto.parse_a2g(v["PLACE"], 3, 0x01020304) == {:error, :rx_bad}
    assert Proto.parse_a2g(v["ASSIGN"], 4, 0x01020304) == {:error, :rx_bad}
  end

  # "datagram HEX / HEX / HEX / tag HEX" blocks of the "Test vectors" section
  test "the authentication test vectors" do
    blocks =
      Regex.scan(
        ~r/^\s+datagram ([0-9a-f ]+)\n\s+([0-9a-f]+)\n\s+([0-9a-f ]+)\n\s+tag\s+([0-9a-f]+)$/m,
        doc()
      )

    assert length(blocks) == 2

    for [_, l1, l2, l3, tag] <- blocks do
      bin = Base.decode16!(String.replace(l1 <> l2 <> l3, " ", ""), case: :lower)
      assert byte_size(bin) == 64
      tag = Base.decode16!(tag, case: :lower)
      <<pre::binary-size(24), in_dgram::binary-size(16), rest::binary>> = bin
      assert in_dgram == tag
      assert SipHash.tag(@key, [pre, <<0::128>>, rest]) == tag
      assert {:ok, _} = Proto.verify(bin, %{0 => @key, 1 => @key})
    end
  end

  test "the SipHash reference implementation's 128-bit vectors" do
    msg = :binary.list_to_bin(Enum.to_list(0..63))

    for {n, hex} <- [
          {0, "a3817f04ba25a8e66df67214c7550293"},
          {1, "da87c1d86b99af44347659119b22fc45"},
          {15, "5493e99933b0a8117e08ec0f97cfc3d9"},
          {63, "5150d1772f50834a503e069a973fbd7c"}
        ] do
      assert Base.encode16(SipHash.tag(@key, binary_part(msg, 0, n)), case: :lower) == hex
    end
  end

  test "the digest formula's vector, from the document" do
    [_, u, r, d] = Regex.run(~r/`hc_member_digest\(([0-9a-f]+), (\d+)\)` = `([0-9a-f]+)`/, doc())

    assert Proto.member_digest(String.to_integer(u, 16), String.to_integer(r)) ==
             String.to_integer(d, 16)

    # sums wrap mod 2^64 both ways
    assert Proto.digest_add(0xFFFFFFFFFFFFFFFF, 2) == 1
    assert Proto.digest_sub(1, 2) == 0xFFFFFFFFFFFFFFFF
  end

  test "serial-number order wraps" do
    assert Proto.seq_after(1, 0xFFFFFFFF)
    refute Proto.seq_after(0xFFFFFFFF, 1)
    refute Proto.seq_after(5, 5)
    assert Proto.seq_after(0x80000000 - 1 + 5, 5)
    refute Proto.seq_after(0x80000000 + 5, 5)
  end

  test "sizes as libheadcount: 59 events, 89 places, 59 members within 1472 bytes" do
    assert {Proto.events_per(), Proto.places_per(), Proto.members_per()} == {59, 89, 59}
  end

  describe "malformed and forged A->G datagrams" do
    setup do
      {:ok, good: build("HEARTBEAT")}
    end

    test "every truncation and every extension is rx_bad", %{good: good} do
      for n <- 0..(byte_size(good) - 1) do
        assert Proto.parse_a2g(binary_part(good, 0, n), 3, 0x01020304) == {:error, :rx_bad}
      end

      assert Proto.parse_a2g(good <> <<0>>, 3, 0x01020304) == {:error, :rx_bad}
      assert Proto.parse_a2g(good <> <<0::24*8>>, 3, 0x01020304) == {:error, :rx_bad}
    end

    test "header fields: magic, version, type, flags, A2G, incarnations", %{good: good} do
      <<_::32, rest::binary>> = good
      assert Proto.parse_a2g(<<0x48434E55::32, rest::binary>>, 3, 0x01020304) == {:error, :rx_bad}
      <<m::binary-4, _v, rest::binary>> = good
      assert Proto.parse_a2g(<<m::binary, 2, rest::binary>>, 3, 0x01020304) == {:error, :rx_bad}

      for t <- [0, 1, 2, 6, 8, 255] do
        <<m::binary-5, _t, rest::binary>> = good
        assert Proto.parse_a2g(<<m::binary, t, rest::binary>>, 3, 0x01020304) == {:error, :rx_bad}
      end

      <<m::binary-6, _f::16, rest::binary>> = good
      # no A2G (our own datagram reflected), an unknown flag
      assert Proto.parse_a2g(<<m::binary, 0x0001::16, rest::binary>>, 3, 0x01020304) ==
               {:error, :rx_bad}

      assert Proto.parse_a2g(<<m::binary, 0x000D::16, rest::binary>>, 3, 0x01020304) ==
               {:error, :rx_bad}

      # appliance incarnation 0; another incarnation of ours
      <<m::binary-16, _a::32, rest::binary>> = good
      assert Proto.parse_a2g(<<m::binary, 0::32, rest::binary>>, 3, 0x01020304) == {:error, :rx_bad}
      assert Proto.parse_a2g(good, 3, 0x01020305) == {:error, :rx_bad}
      # a record count that does not match the length
      <<m::binary-10, _c::16, rest::binary>> = good
      assert Proto.parse_a2g(<<m::binary, 2::16, rest::binary>>, 3, 0x01020304) == {:error, :rx_bad}
    end

    test "a flipped bit anywhere fails the tag; another key or slot too", %{good: good} do
      for i <- 0..(byte_size(good) * 8 - 1) do
        <<a::bitstring-size(i), b::1, c::bitstring>> = good
        bad = <<a::bitstring, 1 - b::1, c::bitstring>>
        assert Proto.verify(bad, %{0 => @key, 1 => @key}) == :error
      end

      assert Proto.verify(good, %{0 => :binary.copy(<<1>>, 16)}) == :error
      assert Proto.verify(good, %{1 => @key}) == :error
      # no AUTH flag: refused even with a good tag elsewhere
      <<m::binary-6, f::16, rest::binary>> = good

      assert Proto.verify(<<m::binary, Bitwise.band(f, 0xFFFE)::16, rest::binary>>, %{0 => @key}) ==
               :error

      assert Proto.verify(<<1, 2, 3>>, %{0 => @key}) == :error
    end
  end
end
