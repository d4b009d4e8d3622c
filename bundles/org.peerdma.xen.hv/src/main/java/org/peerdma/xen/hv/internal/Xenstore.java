package org.peerdma.xen.hv.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

import org.peerdma.xen.hv.Xen;
import org.peerdma.xen.hv.XenError;

/**
 * The xenstore tree with xenstored's permission rules: each node has a permission list whose first
 * entry names the owner and the default access of everybody else ('n' none, 'r' read, 'w' write,
 * 'b' both), further entries grant one domain more. The owner and dom0 have full access. A new node
 * takes its parent's permissions, owned by the creator. Guarded by the machine lock.
 */
final class Xenstore {
    private static final Pattern PATH = Pattern.compile("(/[A-Za-z0-9_\\-@.:]+)+|/");
    private static final Pattern PERM = Pattern.compile("[nrwb]\\d+");

    static final class Node {
        String value = "";
        List<String> perms;

        Node(List<String> perms) {
            this.perms = List.copyOf(perms);
        }
    }

    private final TreeMap<String, Node> nodes = new TreeMap<>();

    Xenstore() {
        nodes.put("/", new Node(List.of("n0")));
    }

    static String check(String path) {
        if (path == null || path.length() > 3072 || !PATH.matcher(path).matches()) {
            throw new XenError(Xen.EINVAL, "bad xenstore path '" + path + "'");
        }
        return path;
    }

    static String parent(String path) {
        int i = path.lastIndexOf('/');
        return i <= 0 ? "/" : path.substring(0, i);
    }

    private static boolean may(Node n, int dom, char what) {
        if (dom == 0) {
            return true;
        }
        String first = n.perms.get(0);
        int owner = Integer.parseInt(first.substring(1));
        if (owner == dom) {
            return true;
        }
        char access = first.charAt(0);
        for (int i = 1; i < n.perms.size(); i++) {
            String p = n.perms.get(i);
            if (Integer.parseInt(p.substring(1)) == dom) {
                access = p.charAt(0);
            }
        }
        return access == 'b' || access == what;
    }

    private Node node(String path, int dom, char what) {
        Node n = nodes.get(check(path));
        if (n == null) {
            throw new XenError(Xen.ENOENT, path + ": no such node");
        }
        if (!may(n, dom, what)) {
            throw new XenError(Xen.EACCES, path + ": permission denied for domain " + dom);
        }
        return n;
    }

    String read(int dom, String path) {
        return node(path, dom, 'r').value;
    }

    /** write - create missing parents (each needs write access to its own parent). Return: whether it is new. */
    boolean write(int dom, String path, String value) {
        check(path);
        Node n = nodes.get(path);
        boolean fresh = n == null;
        if (fresh) {
            n = create(dom, path);
        } else if (!may(n, dom, 'w')) {
            throw new XenError(Xen.EACCES, path + ": permission denied for domain " + dom);
        }
        n.value = value == null ? "" : value;
        return fresh;
    }

    private Node create(int dom, String path) {
        String par = parent(path);
        Node p = nodes.get(par);
        if (p == null) {
            p = create(dom, par);
        } else if (!may(p, dom, 'w')) {
            throw new XenError(Xen.EACCES, par + ": permission denied for domain " + dom);
        }
        List<String> perms = new ArrayList<>(p.perms);
        if (dom != 0) {
            perms.set(0, perms.get(0).charAt(0) + Integer.toString(dom));
        }
        Node n = new Node(perms);
        nodes.put(path, n);
        return n;
    }

    void mkdir(int dom, String path) {
        if (!nodes.containsKey(check(path))) {
            write(dom, path, "");
        }
    }

    /** rm - the node and everything below it (write access to the node needed). */
    void rm(int dom, String path) {
        if ("/".equals(check(path))) {
            throw new XenError(Xen.EINVAL, "cannot remove /");
        }
        node(path, dom, 'w');
        nodes.subMap(path, true, path + "/\uffff", true).clear();
    }

    List<String> directory(int dom, String path) {
        node(path, dom, 'r');
        String prefix = "/".equals(path) ? "/" : path + "/";
        List<String> out = new ArrayList<>();
        for (String k : nodes.tailMap(prefix, false).keySet()) {
            if (!k.startsWith(prefix)) {
                break;
            }
            String rest = k.substring(prefix.length());
            if (!rest.isEmpty() && rest.indexOf('/') < 0) {
                out.add(rest);
            }
        }
        return out;
    }

    void setPerms(int dom, String path, List<String> perms) {
        if (perms == null || perms.isEmpty() || !perms.stream().allMatch(p -> p != null && PERM.matcher(p).matches())) {
            throw new XenError(Xen.EINVAL, "bad permission list " + perms);
        }
        Node n = nodes.get(check(path));
        if (n == null) {
            throw new XenError(Xen.ENOENT, path + ": no such node");
        }
        int owner = Integer.parseInt(n.perms.get(0).substring(1));
        if (dom != 0 && dom != owner) {
            throw new XenError(Xen.EACCES, path + ": only its owner (domain " + owner + ") or dom0 may set permissions");
        }
        n.perms = List.copyOf(perms);
    }

    List<String> getPerms(int dom, String path) {
        return node(path, dom, 'r').perms;
    }

    /** forceRm - the hypervisor removing a dead domain's directory. */
    void forceRm(String path) {
        nodes.subMap(path, true, path + "/\uffff", true).clear();
    }

    /** forceWrite - the toolstack (dom0 privilege) writing a node with given permissions. */
    void forceWrite(String path, String value, List<String> perms) {
        write(0, path, value);
        nodes.get(path).perms = List.copyOf(perms);
    }

    Map<String, Node> snapshot() {
        return nodes;
    }
}
