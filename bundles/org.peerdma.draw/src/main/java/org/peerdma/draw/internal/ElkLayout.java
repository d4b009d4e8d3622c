package org.peerdma.draw.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.eclipse.elk.alg.layered.components.ComponentOrderingStrategy;
import org.eclipse.elk.alg.layered.options.LayeredMetaDataProvider;
import org.eclipse.elk.alg.layered.options.LayeredOptions;
import org.eclipse.elk.alg.layered.options.OrderingStrategy;
import org.eclipse.elk.core.RecursiveGraphLayoutEngine;
import org.eclipse.elk.core.data.LayoutMetaDataService;
import org.eclipse.elk.core.options.CoreOptions;
import org.eclipse.elk.core.options.Direction;
import org.eclipse.elk.core.options.EdgeRouting;
import org.eclipse.elk.core.util.BasicProgressMonitor;
import org.eclipse.elk.graph.ElkBendPoint;
import org.eclipse.elk.graph.ElkEdge;
import org.eclipse.elk.graph.ElkEdgeSection;
import org.eclipse.elk.graph.ElkNode;
import org.eclipse.elk.graph.util.ElkGraphUtil;

/**
 * A tree laid out by the Eclipse Layout Kernel's layered algorithm (Sugiyama: layers, crossing minimisation,
 * node placement, orthogonal edge routing), left to right as {@code lspci -t} reads, children in the order
 * given (the bus order).
 */
final class ElkLayout {
    private static boolean registered;

    /** A node to place, of the given size. */
    record Node(String id, double w, double h) {
    }

    /** Where a node went and the route of each edge, in the order given. */
    record Result(Map<String, double[]> positions, List<List<double[]>> routes, double width, double height) {
    }

    private ElkLayout() {
    }

    /** ELK finds its algorithms through ServiceLoader, which sees nothing inside a bundle: register the one used. */
    private static synchronized void register() {
        if (!registered) {
            LayoutMetaDataService.getInstance().registerLayoutMetaDataProviders(new LayeredMetaDataProvider());
            registered = true;
        }
    }

    static Result layout(List<Node> nodes, List<String[]> edges) {
        register();
        ElkNode root = ElkGraphUtil.createGraph();
        root.setProperty(CoreOptions.ALGORITHM, LayeredOptions.ALGORITHM_ID);
        root.setProperty(CoreOptions.DIRECTION, Direction.RIGHT);
        root.setProperty(CoreOptions.EDGE_ROUTING, EdgeRouting.ORTHOGONAL);
        root.setProperty(CoreOptions.SPACING_NODE_NODE, 10.0);
        root.setProperty(LayeredOptions.SPACING_NODE_NODE_BETWEEN_LAYERS, 36.0);
        root.setProperty(LayeredOptions.CONSIDER_MODEL_ORDER_STRATEGY, OrderingStrategy.NODES_AND_EDGES);
        // each host bridge's tree is a component of its own: keep them in bus order, top to bottom
        root.setProperty(LayeredOptions.CONSIDER_MODEL_ORDER_COMPONENTS, ComponentOrderingStrategy.MODEL_ORDER);
        root.setProperty(CoreOptions.PADDING, new org.eclipse.elk.core.math.ElkPadding(0));
        Map<String, ElkNode> byId = new LinkedHashMap<>();
        for (Node n : nodes) {
            ElkNode e = ElkGraphUtil.createNode(root);
            e.setIdentifier(n.id());
            e.setDimensions(n.w(), n.h());
            byId.put(n.id(), e);
        }
        List<ElkEdge> es = new ArrayList<>();
        for (String[] e : edges) {
            es.add(ElkGraphUtil.createSimpleEdge(byId.get(e[0]), byId.get(e[1])));
        }
        new RecursiveGraphLayoutEngine().layout(root, new BasicProgressMonitor());
        Map<String, double[]> pos = new LinkedHashMap<>();
        byId.forEach((id, e) -> pos.put(id, new double[] {e.getX(), e.getY()}));
        List<List<double[]>> routes = new ArrayList<>();
        for (ElkEdge e : es) {
            List<double[]> pts = new ArrayList<>();
            for (ElkEdgeSection s : e.getSections()) {
                pts.add(new double[] {s.getStartX(), s.getStartY()});
                for (ElkBendPoint b : s.getBendPoints()) {
                    pts.add(new double[] {b.getX(), b.getY()});
                }
                pts.add(new double[] {s.getEndX(), s.getEndY()});
            }
            routes.add(pts);
        }
        return new Result(pos, routes, root.getWidth(), root.getHeight());
    }
}
